import SOVLedgerCLI

/// `sov-validate`: all of its logic is `ValidateCommand` in SOVLedgerCLI.
@main
enum SovValidate {
    static func main() {
        ValidateCommand.mainExitingWithItsCode()
    }
}
