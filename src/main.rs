fn main() -> std::process::ExitCode {
    milly::bootstrap::main()
}
