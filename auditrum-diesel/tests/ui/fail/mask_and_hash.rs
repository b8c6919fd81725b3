// `mask(...)` and `hash(...)`: fields that exist, not the key (every event names its record
// by it in clear), not both, and audited (not excluded / skipped).
use auditrum_diesel::Audited;

#[derive(Audited)]
#[audited(exclude(notes))]
#[audited(mask(id, phone, nickname))]
#[audited(hash(phone, notes, emial))]
pub struct User {
    pub id: i32,
    pub phone: String,
    pub nickname: String,
    pub notes: String,
    #[audited(skip)]
    pub secret: String,
}

#[derive(Audited)]
#[audited(mask(secret))]
pub struct Account {
    pub id: i32,
    #[audited(skip)]
    pub secret: String,
}

fn main() {}
