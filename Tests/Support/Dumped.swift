/// Everything `dump` shows of a value, as text: what differential tests compare when the value
/// (a verdict, a read event with its diagnostics) has no equality of its own.
public func dumped<Value>(_ value: Value) -> String {
    var text = ""
    dump(value, to: &text)
    return text
}
