// Options with a value of the wrong form: each error states the correct form.
use auditrum_diesel::Audited;

#[derive(Audited)]
#[audited(track_only = "email", condition(NEW.ok), storage = "partial")]
#[audited(meta("tenant_id"), schema = app)]
pub struct User {
    pub id: i32,
    pub email: String,
    #[audited(skip = true)]
    pub tenant_id: i32,
}

#[derive(Audited)]
#[audited(condition = "NEW.a; DROP TABLE users", exclude())]
pub struct Post {
    pub id: i32,
    pub a: bool,
}

fn main() {}
