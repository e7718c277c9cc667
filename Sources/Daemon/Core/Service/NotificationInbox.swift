import Ingest
import PostgresClient
import Synchronization

/// Notifications received since the scheduler last looked: which sources have new data
/// (by relation OID) and whether any request or model change arrived.
final class NotificationInbox: Sendable {
    private struct State {
        var relations: Set<Int64> = []
        var requests = false
        var allData = false
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

    /// The listener was not listening for a while: any source may have new rows it did not
    /// hear about, so every model reads once.
    func missedSome() {
        state.withLock { $0.allData = true }
    }

    /// Takes what arrived: the relations with new data, whether all models should look, and
    /// whether every source may have new data.
    func take() -> (relations: Set<Int64>, everyone: Bool, allData: Bool) {
        state.withLock { state in
            defer { state = State() }
            return (state.relations, state.requests || state.allData, state.allData)
        }
    }
}
