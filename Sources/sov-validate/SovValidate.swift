import SOVCLI

/// `sov-validate`: all of its logic is `ValidateCommand` in SOVCLI.
@main
enum SovValidate {
    static func main() {
        ValidateCommand.main()
    }
}
