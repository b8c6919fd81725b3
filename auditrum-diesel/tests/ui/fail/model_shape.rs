// Shapes the derive cannot audit: an enum, a generic model, an embedded struct without
// `skip`, a tuple field without a column, and a model with nothing left to audit.
use auditrum_diesel::Audited;

#[derive(Audited)]
pub enum Status {
    Active,
}

#[derive(Audited)]
pub struct Wrapper<T> {
    pub id: i32,
    pub value: T,
}

#[derive(Audited)]
pub struct Order {
    pub id: i32,
    #[diesel(embed)]
    pub address: Address,
}

pub struct Address;

#[derive(Audited)]
#[diesel(table_name = pairs)]
pub struct Pair(#[diesel(column_name = id)] i32, String);

#[derive(Audited)]
#[audited(exclude(secret))]
pub struct Secret {
    #[audited(skip)]
    pub id: i32,
    pub secret: String,
}

fn main() {}
