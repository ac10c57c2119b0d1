fn main() {
    std::process::exit(bedform::cli::run(std::env::args_os()).code());
}
