fn main() -> std::process::ExitCode {
    milly::adapters::cli::main()
}
