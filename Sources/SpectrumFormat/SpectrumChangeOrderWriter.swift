import SOVCore

extension SpectrumChangeRequestWriter {
    /// The `ARChangeOrder` layout (`--spectrum-layout change-order`): one record per billing item,
    /// the header repeated on each (Change_Order_Number, Description, Status_Code,
    /// Change_Order_Date, Approved_Date, Approved_Days, Fee_Percent, Fee_Amount), then
    /// CO_Billing_Item_Code, Additional_Description and Revenue = the item's lines' extended
    /// amounts (horizontal markup included). All vertical markup goes to the header's Fee_Amount,
    /// with Fee_Percent sent blank: given both, Spectrum recalculates the amount from the percent
    /// and the cents Procore computed would be lost. Revenue + Fee_Amount = the grand total.
    func changeOrderRecords(_ order: ChangeOrder, _ computed: ComputedMarkup, _ header: Header, _ lines: [LinePlan], guid: String, _ problems: inout SpectrumWriterProblems) -> [SpectrumExportRecord] {
        var revenue = SpectrumWriterSums<String>()
        var additional: [String: String?] = [:]
        for (index, plan) in lines.enumerated() {
            revenue.add(computed.lines[index].extendedAmount, to: plan.billingItem, &problems)
            // An item keeps its lines' Additional_Description only when they all agree on one.
            let text = order.lines[index].additionalDescription?.spectrumWriterTrimmed
            let own = (text?.isEmpty ?? true) ? nil : text
            if let existing = additional[plan.billingItem] {
                if existing != own { additional[plan.billingItem] = .some(nil) }
            } else {
                additional[plan.billingItem] = .some(own)
            }
        }
        let fee = problems.total(computed.vertical.map(\.amount), order.currency)
        checkAmount(fee, "Fee_Amount", &problems)

        var fallback = changeOrderText(order)
        var fallbackWarned = false
        let base = headerFields(header, guid: guid) + [
            SpectrumExportField("Fee_Percent", ""),
            SpectrumExportField("Fee_Amount", fee.description),
        ]
        var records: [SpectrumExportRecord] = []
        for (item, amount) in revenue.entries {
            checkAmount(amount, "Revenue", &problems)
            let description: String
            if let shared = additional[item] ?? nil {
                let line = lines.firstIndex { $0.billingItem == item }
                let place = line.map { (order.lines[$0].source ?? order.source).with(field: "lines[\($0)].additional_description") } ?? order.source.with(field: "additional_description")
                if let long = Rulebook.fieldLength(shared, .additionalDescription, what: "the additional description of billing item \(item)", at: place) {
                    problems.add(long)
                }
                description = shared
            } else {
                if !fallbackWarned {
                    fallback = fitted(fallback, to: SpectrumLimit.additionalDescription.length, SpectrumLimit.additionalDescription.name, field: "title", &problems)
                    fallbackWarned = true
                }
                description = fallback
            }
            records.append(SpectrumExportRecord(element: SpectrumExportLayout.changeOrder.elementName, fields: base + [
                SpectrumExportField("CO_Billing_Item_Code", item),
                SpectrumExportField("Additional_Description", description),
                SpectrumExportField("Revenue", amount.description),
            ]))
        }

        let revenueTotal = problems.total(revenue.entries.map(\.1), order.currency)
        if revenueTotal != computed.subtotal {
            problems.error(.REC001, "Revenue adds up to \(revenueTotal) but the change order's subtotal (lines with horizontal markup) is \(computed.subtotal)", field: "computed.subtotal")
        }
        if problems.sum(revenueTotal, fee) != computed.grandTotal {
            problems.error(.REC001, "Revenue \(revenueTotal) plus Fee_Amount \(fee) is not the change order's grand total \(computed.grandTotal)", field: "computed.grand_total")
        }
        return records
    }
}
