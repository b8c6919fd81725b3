// `track_only` and `exclude` cannot be combined, even across two attributes.
use auditrum_diesel::Audited;

#[derive(Audited)]
#[audited(track_only(email))]
#[audited(exclude(name))]
pub struct User {
    pub id: i32,
    pub email: String,
    pub name: String,
}

fn main() {}
