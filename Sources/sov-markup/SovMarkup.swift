import SOVCLI

/// `sov-markup`: all of its logic is `MarkupCommand` in SOVCLI.
@main
enum SovMarkup {
    static func main() {
        MarkupCommand.mainExitingWithItsCode()
    }
}
