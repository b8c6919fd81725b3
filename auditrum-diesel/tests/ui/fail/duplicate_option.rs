// An option given twice, and a field named twice in one list.
use auditrum_diesel::Audited;

#[derive(Audited)]
#[audited(exclude(name), condition = "NEW.ok")]
#[audited(condition = "NEW.id > 0")]
pub struct User {
    pub id: i32,
    #[audited(skip, skip)]
    pub name: String,
    pub ok: bool,
}

#[derive(Audited)]
#[audited(track_only(a, a))]
pub struct Post {
    pub id: i32,
    pub a: String,
}

fn main() {}
