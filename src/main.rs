fn main() {
    std::process::exit(bedform::run(std::env::args_os()).code());
}
