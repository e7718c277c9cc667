import Ingest
import PostgresClient
import Synchronization

/// Notifications received since the scheduler last looked: which sources have new data
/// (by relation OID) and whether any request or model change arrived.
final class NotificationInbox: Sendable {
    private struct State {
        var relations: Set<Int64> = []
        var requests = false
    }
    private let state = Mutex(State())

    func add(_ notification: PostgresNotification) {
        state.withLock { state in
            if notification.channel == "forecastd_data", let oid = Int64(notification.payload) {
                state.relations.insert(oid)
            } else {
                state.requests = true
            }
        }
    }

    /// Takes what arrived: the relations with new data, and whether all models should look.
    func take() -> (relations: Set<Int64>, everyone: Bool) {
        state.withLock { state in
            defer { state = State() }
            return (state.relations, state.requests)
        }
    }
}
