// The migrations are embedded by `sqlx::migrate!` at compile time; without
// this, adding a migration file would not rebuild the crate and the new
// migration would silently not be applied (sqlx's documented build script).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
