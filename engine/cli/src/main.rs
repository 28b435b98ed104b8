//! The `linewall` command.
fn main() {}
