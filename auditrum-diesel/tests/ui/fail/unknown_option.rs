// Unknown options, on the struct and on a field, and options at the wrong level. The stub
// impl keeps `User::track_spec()` from adding errors of its own.
use auditrum_diesel::Audited;

#[derive(Audited)]
#[audited(track_onyl(email), skip)]
pub struct User {
    pub id: i32,
    #[audited(hide, exclude(email))]
    pub email: String,
}

fn main() {
    let _ = User::track_spec();
}
