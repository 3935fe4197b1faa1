import SOVLedgerCLI

/// `sov-ledger`: all of its logic is `LedgerCommand` in SOVLedgerCLI.
@main
enum SovLedger {
    static func main() {
        LedgerCommand.mainExitingWithItsCode()
    }
}
