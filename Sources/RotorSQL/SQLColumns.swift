import Foundation
import RotorCore

/// The column lists the queries read by position.
enum SQLColumns {
    /// ``appColumns`` qualified with the alias `a`, for joins.
    static let joinedAppColumns = appColumns.split(separator: ",").map {
        "a." + $0.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Rows are read by position (a by-name lookup costs more than the rest of a listing).
    static let appColumns = """
        id, name, application_id, api_url, schedule_kind, schedule_expr, jitter_seconds, window_start, window_end,
        timezone, identity_id, enabled, current_version, created_at, updated_at, attention, attention_at
        """

    /// ``credentialColumns`` with NULL in place of the sealed secret, for listings.
    static let credentialColumnsWithoutSecret = credentialColumns.replacingOccurrences(
        of: "credentials.client_secret", with: "NULL")

    static let credentialColumns = """
        credentials.app_id, credentials.version, credentials.client_id, credentials.client_secret,
        credentials.fingerprint, credentials.source, credentials.rotation_id, credentials.created_at
        """

    static let auditColumns = "id, time, actor, action, outcome, app, rotation_id, detail, prev_hash, hash"

    static let targetColumns = """
        id, app_id, kind, path, format, mode, in_place, owner, grp, command, timeout_ms, pass_env, enabled, created_at,
        template, url, headers, secret_file, check_command, check_timeout_ms
        """

    static let deliveryColumns = """
        deliveries.target_id, deliveries.version, deliveries.rotation_id, deliveries.state, deliveries.attempts,
        deliveries.next_attempt_at, deliveries.last_attempt_at, deliveries.last_error, deliveries.output,
        deliveries.alerted, deliveries.confirmed_at, deliveries.check_error
        """

    /// The columns of ``targetColumns`` from `group_targets`, so one mapping reads both.
    static let groupTargetColumns = """
        id, group_id, kind, path, format, mode, in_place, owner, grp, command, timeout_ms, pass_env, 1, created_at,
        template, NULL, NULL, NULL, NULL, NULL
        """

    static let occurrenceColumns =
        "app_id, due_at, jitter_ms, start_at, covers, state, rotation_id, attempts, retry_at, last_error"

    static let rotationColumns = """
        id, app_id, trigger, state, from_version, to_version, error, started_at, finished_at
        """

    /// `RotationState.isUnresolved` as an SQL list (the partial index `rotations_one_open` names the same states).
    static let unresolvedStates = RotationState.allCases.filter(\.isUnresolved).map { "'\($0.rawValue)'" }
        .joined(separator: ", ")

    static let rotationRecordColumns = """
        id, app_id, trigger, state, occurrence_due, occurrences, auth_kind, auth_token, from_version, to_version,
        attempts, next_attempt_at, error, started_at, updated_at, finished_at
        """
}
