
#if canImport(Glibc)
import Foundation
import Glibc
import SOVBatch
import SOVCore
import SOVDelivery
import SOVFrontEnd
#endif

/// Where each target is and how to sign in to it, resolved from flags, the configuration's
/// `[procore]` and `[spectrum]` tables and the environment. Secrets come only from the
/// environment or a file that nobody but its owner can read; they are never printed.
public struct DeliveryConfiguration: Sendable {
    public static let procoreSecretVariable = "PROCORE_CLIENT_SECRET"
    public static let spectrumSecretVariable = "SPECTRUM_AUTHORIZATION_ID"

    /// nil when a setting is missing: `procoreMissing` says which (said only when a Procore unit
    /// is to be delivered, so a Spectrum-only site needs no Procore settings).
    public var procore: ProcoreSettings?
    public var procoreMissing: [String] = []
    public var spectrum: SpectrumDEXSettings?
    public var spectrumMissing: [String] = []

    public init(procore: ProcoreSettings? = nil, spectrum: SpectrumDEXSettings? = nil) {
        self.procore = procore
        self.spectrum = spectrum
    }

    /// A setting that is wrong (not merely missing): exit 64, or 66 for a secret file that is not there.
    /// `settings` holds the flags over the configuration file (the key table's `procore.*` and
    /// `spectrum.*` keys).
    public static func resolve(_ settings: BatchSettings, environment: [String: String]) throws(OptionsError) -> DeliveryConfiguration {
        var configuration = DeliveryConfiguration()
        func given(_ setting: Setting) -> String? { settings.text(setting).flatMap { $0.isEmpty ? nil : $0 } }

        // Procore.
        let apiText = given(.procoreAPIURL)
        let loginText = given(.procoreLoginURL)
        let apiURL = try apiText.map { text throws(OptionsError) in try url(text, setting: "procore.api_url (--procore-api-url)") } ?? ProcoreSettings.defaultAPIURL
        let loginURL = try loginText.map { text throws(OptionsError) in try url(text, setting: "procore.login_url (--procore-login-url)") } ?? ProcoreSettings.defaultLoginURL
        let companyId = given(.procoreCompanyId)
        let clientId = given(.procoreClientId)
        var secret = environment[procoreSecretVariable].flatMap { $0.isEmpty ? nil : $0 }
        if secret == nil, let file = given(.procoreClientSecretFile) {
            secret = try SecretFile.read(file, setting: "procore.client_secret_file")
        }
        if let companyId, !companyId.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            throw OptionsError("procore.company_id (--procore-company-id) must be Procore's company id, a whole number; got '\(companyId)'")
        }
        if companyId == nil { configuration.procoreMissing.append("procore.company_id (or --procore-company-id)") }
        if clientId == nil { configuration.procoreMissing.append("procore.client_id (or --procore-client-id)") }
        if secret == nil { configuration.procoreMissing.append("the client secret (\(procoreSecretVariable), or a 0600 file named by procore.client_secret_file)") }
        if let companyId, let clientId, let secret {
            configuration.procore = ProcoreSettings(apiURL: apiURL, loginURL: loginURL, companyId: companyId, clientId: clientId, clientSecret: secret)
        }

        // Spectrum Data Exchange.
        let dexText = given(.spectrumDEXURL)
        var authorization = environment[spectrumSecretVariable].flatMap { $0.isEmpty ? nil : $0 }
        if authorization == nil, let file = given(.spectrumAuthorizationIdFile) {
            authorization = try SecretFile.read(file, setting: "spectrum.authorization_id_file")
        }
        if authorization == nil { authorization = given(.spectrumAuthorizationId) }
        if dexText == nil { configuration.spectrumMissing.append("spectrum.dex_url (or --spectrum-dex-url)") }
        if authorization == nil { configuration.spectrumMissing.append("the Authorization_ID (\(spectrumSecretVariable), or a 0600 file named by spectrum.authorization_id_file)") }
        if let dexText {
            guard let dexURL = SpectrumDEXSettings.dexURL(dexText) else {
                throw OptionsError("spectrum.dex_url (--spectrum-dex-url) is not an http(s) URL: '\(dexText)'")
            }
            if let authorization {
                guard let id = SpectrumAuthorizationID(authorization) else {
                    throw OptionsError("the Spectrum Authorization_ID must be 1 to 20 characters (Data Exchange's limit); check \(spectrumSecretVariable) or spectrum.authorization_id_file")
                }
                configuration.spectrum = SpectrumDEXSettings(dexURL: dexURL, authorizationID: id)
            }
        }
        return configuration
    }

    private static func url(_ text: String, setting: String) throws(OptionsError) -> URL {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http", url.host != nil else {
            throw OptionsError("\(setting) is not an http(s) URL: '\(text)'")
        }
        return url
    }
}

/// A secret kept in a file: its owner's alone (no group or other permission bits), one line.
public enum SecretFile {
    public static func read(_ path: String, setting: String) throws(OptionsError) -> String {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw OptionsError("\(path) (\(setting)): cannot read: \(String(cString: strerror(errno)))", status: .noInput)
        }
        guard status.st_mode & S_IFMT == S_IFREG else { throw OptionsError("\(path) (\(setting)) is not a regular file") }
        let mode = status.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw OptionsError("\(path) (\(setting)) can be read by others (mode \(String(mode, radix: 8))); a secret file must be 0600: chmod 600 \(path)")
        }
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw OptionsError("\(path) (\(setting)): cannot read", status: .noInput)
        }
        var text = String(decoding: bytes, as: UTF8.self)
        while let last = text.last, last == "\n" || last == "\r" || last == " " { text.removeLast() }
        guard !text.isEmpty else { throw OptionsError("\(path) (\(setting)) is empty") }
        return text
    }
}
