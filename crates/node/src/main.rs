//! The `vouch` binary: everything is in the library's command line (`cli.rs`).

fn main() -> std::process::ExitCode {
    vouch_node::main()
}
