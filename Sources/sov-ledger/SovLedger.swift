import SOVCLI

/// `sov-ledger`: all of its logic is `LedgerCommand` in SOVCLI.
@main
enum SovLedger {
    static func main() {
        LedgerCommand.main()
    }
}
