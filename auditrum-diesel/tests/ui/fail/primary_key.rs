// The audit log keys events by the primary key: it must be a column of the model.
use auditrum_diesel::Audited;

// Diesel's default key is `id`.
#[derive(Audited)]
pub struct Tag {
    pub name: String,
}

#[derive(Audited)]
#[diesel(table_name = memberships, primary_key(group_id, user_id))]
pub struct Membership {
    pub group_id: i32,
    pub role: String,
}

fn main() {}
