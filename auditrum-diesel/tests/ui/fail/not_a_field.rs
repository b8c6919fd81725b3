// Every name in `track_only`, `exclude` and `meta` must be a field of the model; all three
// are reported in one compile.
use auditrum_diesel::Audited;

#[derive(Audited)]
#[audited(track_only(emial, name))]
pub struct User {
    pub id: i32,
    pub email: String,
    pub name: String,
}

#[derive(Audited)]
#[audited(exclude(password))]
pub struct Account {
    pub id: i32,
    pub password_hash: String,
}

// `full_name` is the column; the option names the field, `name`.
#[derive(Audited)]
#[audited(meta(tenant, full_name))]
pub struct Person {
    pub id: i32,
    #[diesel(column_name = full_name)]
    pub name: String,
}

fn main() {}
