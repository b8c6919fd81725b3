//! `embed_migrations!` reads the migrations when the test crate compiles; a new migration
//! folder must recompile it.

fn main() {
    println!("cargo:rerun-if-changed=migrations/fixture");
}
