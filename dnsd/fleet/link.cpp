#include "dnsd/fleet/link.hpp"

#include <algorithm>
#include <array>
#include <chrono>

#include "dnsd/core/log.hpp"
#include "dnsd/fleet/nats.hpp"

namespace dnsd::fleet {

namespace {

// A watcher is asked for news this long before the thread turns to writes
// and the other buckets: a change reaches the control loop within one round.
constexpr int64_t watch_wait_ms = 20;
constexpr size_t max_entries_per_round = 1000;
constexpr auto reconnect_pause = std::chrono::milliseconds(1000);

// What a failed call says about the connection: gone (retry once it is back)
// or fine (the request itself was refused).
bool connection_problem(natsStatus status) {
    return status == NATS_TIMEOUT || status == NATS_CONNECTION_CLOSED || status == NATS_CONNECTION_DISCONNECTED ||
           status == NATS_NO_RESPONDERS || status == NATS_NO_SERVER || status == NATS_STALE_CONNECTION ||
           status == NATS_IO_ERROR || status == NATS_ILLEGAL_STATE;
}

Entry entry_of(kvEntry* entry) {
    Entry out;
    out.key = kvEntry_Key(entry);
    const auto* value = static_cast<const char*>(kvEntry_Value(entry));
    out.value.assign(value != nullptr ? value : "", static_cast<size_t>(kvEntry_ValueLen(entry)));
    out.revision = kvEntry_Revision(entry);
    const kvOperation op = kvEntry_Operation(entry);
    out.deleted = op == kvOp_Delete || op == kvOp_Purge;
    out.created_ns = kvEntry_Created(entry);
    return out;
}

}  // namespace

struct Link::Async {
    uv_async_t handle;
    Link* owner;
};

Link::Link(uv_loop_t* loop, config::Fleet fleet, std::vector<Bucket> watched, Deliver deliver)
    : fleet_(std::move(fleet)), watched_(std::move(watched)), deliver_(std::move(deliver)) {
    async_ = new Async{{}, this};
    uv_async_init(loop, &async_->handle, on_async);
    thread_ = std::thread([this] { run(); });
}

Link::~Link() { close(); }

void Link::close() {
    if (async_ == nullptr) return;
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
    // Frees what the client library keeps for the process (its threads, its
    // pools) once the connection is gone.
    nats_CloseAndWait(static_cast<int64_t>(nats::request_timeout_ms));
    async_->owner = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(&async_->handle),
             [](uv_handle_t* handle) { delete reinterpret_cast<Async*>(handle); });
    async_ = nullptr;
}

void Link::put(Bucket bucket, std::string key, std::string value) {
    enqueue({bucket, std::move(key), std::move(value)});
}

void Link::remove(Bucket bucket, std::string key) { enqueue({bucket, std::move(key), std::nullopt}); }

void Link::enqueue(Write write) {
    {
        std::lock_guard lock(mutex_);
        auto same = std::find_if(writes_.begin(), writes_.end(), [&](const Write& w) {
            return w.bucket == write.bucket && w.key == write.key;
        });
        if (same != writes_.end())
            *same = std::move(write);
        else
            writes_.push_back(std::move(write));
    }
    wake_.notify_all();
}

void Link::emit(Event event) {
    {
        std::lock_guard lock(mutex_);
        events_.push_back(std::move(event));
    }
    // async_ is only replaced after the thread is joined.
    uv_async_send(&async_->handle);
}

void Link::on_async(uv_async_t* handle) {
    Link* self = reinterpret_cast<Async*>(handle)->owner;
    if (self == nullptr) return;
    std::vector<Event> events;
    {
        std::lock_guard lock(self->mutex_);
        events.swap(self->events_);
    }
    if (!events.empty()) self->deliver_(std::move(events));
}

void Link::run() {
    std::string error;
    nats::Options options = nats::make_options(fleet_, error);
    auto changed = [](natsConnection*, void* closure) {
        auto* self = static_cast<Link*>(closure);
        {
            std::lock_guard lock(self->mutex_);
            self->connection_changed_ = true;
        }
        self->wake_.notify_all();
    };
    if (options) {
        natsOptions* raw = options.get();
        natsStatus s = natsOptions_SetMaxReconnect(raw, -1);
        if (s == NATS_OK) s = natsOptions_SetReconnectWait(raw, 500);
        if (s == NATS_OK) s = natsOptions_SetRetryOnFailedConnect(raw, true, changed, this);
        if (s == NATS_OK) s = natsOptions_SetDisconnectedCB(raw, changed, this);
        if (s == NATS_OK) s = natsOptions_SetReconnectedCB(raw, changed, this);
        if (s != NATS_OK) {
            error = nats::error_text("bad NATS settings", s);
            options.reset();
        }
    }
    if (!options) {
        emit({Event::Kind::lost, Bucket::state, error, {}});
        return;
    }

    nats::Connection connection;
    nats::JetStream js;
    std::array<nats::KeyValue, bucket_count> buckets;
    std::array<nats::Watcher, bucket_count> watchers;
    std::array<std::vector<Entry>, bucket_count> snapshots;  // initial values of a watcher not yet synced
    std::array<bool, bucket_count> synced{};
    bool ready = false;
    std::string last_problem;  // reported once until it changes

    auto teardown = [&] {
        for (auto& watcher : watchers)
            if (watcher) kvWatcher_Stop(watcher.get());
        for (auto& watcher : watchers) watcher.reset();
        for (auto& bucket : buckets) bucket.reset();
        js.reset();
        snapshots = {};
        synced = {};
    };
    auto problem = [&](std::string why) {
        if (why == last_problem) return;
        last_problem = why;
        emit({Event::Kind::lost, Bucket::state, std::move(why), {}});
    };
    auto setup = [&]() -> bool {
        js = nats::jet_stream(connection.get(), error);
        if (!js) return false;
        for (size_t b = 0; b < bucket_count; ++b) {
            buckets[b] = nats::open_bucket(connection.get(), js.get(), static_cast<Bucket>(b), error);
            if (!buckets[b]) return false;
        }
        for (Bucket bucket : watched_) {
            const auto b = static_cast<size_t>(bucket);
            kvWatcher* raw = nullptr;
            if (natsStatus s = kvStore_WatchAll(&raw, buckets[b].get(), nullptr); s != NATS_OK) {
                error = nats::error_text("cannot watch " + std::string(bucket_name(bucket)), s);
                return false;
            }
            watchers[b].reset(raw);
        }
        return true;
    };

    std::unique_lock lock(mutex_);
    while (!stopping_) {
        const bool changed_now = std::exchange(connection_changed_, false);
        lock.unlock();
        if (!connection) {
            natsConnection* raw = nullptr;
            // With retry on a failed connect, NATS_NOT_YET_CONNECTED: the
            // client keeps trying on its own and calls `changed` when it is in.
            const natsStatus s = natsConnection_Connect(&raw, options.get());
            if (s == NATS_OK || s == NATS_NOT_YET_CONNECTED)
                connection.reset(raw);
            else
                problem(nats::error_text("cannot connect to NATS", s));
        }
        const bool connected = connection && natsConnection_Status(connection.get()) == NATS_CONN_STATUS_CONNECTED;
        if (ready && (changed_now || !connected)) {
            teardown();
            ready = false;
            last_problem.clear();
            problem("connection to NATS lost");
        }
        if (connected && !ready) {
            error.clear();
            if (setup()) {
                ready = true;
                last_problem.clear();
                char url[256] = {};
                natsConnection_GetConnectedUrl(connection.get(), url, sizeof url);
                emit({Event::Kind::connected, Bucket::state, url, {}});
            } else {
                teardown();
                problem(error);
            }
        }
        if (!ready) {
            // Not reached yet since start-up (or since the last connection):
            // the client keeps trying on its own.
            if (!connected && last_problem.empty()) problem("no NATS server reachable");
            lock.lock();
            wake_.wait_for(lock, reconnect_pause, [this] { return stopping_ || connection_changed_; });
            continue;
        }

        // Writes first, in the order given; a write that fails for want of a
        // connection waits for the next one.
        lock.lock();
        std::vector<Write> writes;
        writes.swap(writes_);
        lock.unlock();
        size_t done = 0;
        bool lost = false;
        for (; done < writes.size() && !lost; ++done) {
            Write& write = writes[done];
            kvStore* kv = buckets[static_cast<size_t>(write.bucket)].get();
            uint64_t revision = 0;
            const natsStatus s = write.value ? kvStore_Put(&revision, kv, write.key.c_str(), write.value->data(),
                                                           static_cast<int>(write.value->size()))
                                             : kvStore_Delete(kv, write.key.c_str());
            if (s == NATS_OK) {
                emit({Event::Kind::written, write.bucket, {}, {Entry{write.key, {}, revision, !write.value, 0}}});
            } else if (connection_problem(s)) {
                lost = true;
                --done;
            } else {
                emit({Event::Kind::failed, write.bucket,
                      nats::error_text("cannot store " + write.key + " in " +
                                           std::string(bucket_name(write.bucket)),
                                       s),
                      {}});
            }
        }
        if (done < writes.size()) {
            // Back in front of anything queued meanwhile, unless replaced by it.
            lock.lock();
            std::vector<Write> kept(std::make_move_iterator(writes.begin() + static_cast<std::ptrdiff_t>(done)),
                                    std::make_move_iterator(writes.end()));
            for (Write& newer : writes_) {
                auto same = std::find_if(kept.begin(), kept.end(), [&](const Write& w) {
                    return w.bucket == newer.bucket && w.key == newer.key;
                });
                if (same != kept.end())
                    *same = std::move(newer);
                else
                    kept.push_back(std::move(newer));
            }
            writes_ = std::move(kept);
            lock.unlock();
        }

        for (Bucket bucket : watched_) {
            if (lost) break;
            const auto b = static_cast<size_t>(bucket);
            std::vector<Entry> updates;
            for (size_t n = 0; n < max_entries_per_round; ++n) {
                kvEntry* raw = nullptr;
                const natsStatus s = kvWatcher_Next(&raw, watchers[b].get(), n == 0 ? watch_wait_ms : 1);
                if (s == NATS_TIMEOUT) break;
                if (s != NATS_OK) {
                    lost = true;
                    break;
                }
                nats::KvEntry entry(raw);
                if (!entry) {  // the end of the initial values
                    synced[b] = true;
                    emit({Event::Kind::snapshot, bucket, {}, std::exchange(snapshots[b], {})});
                    continue;
                }
                (synced[b] ? updates : snapshots[b]).push_back(entry_of(entry.get()));
            }
            if (!updates.empty()) emit({Event::Kind::update, bucket, {}, std::move(updates)});
        }
        if (lost) {
            teardown();
            ready = false;
            last_problem.clear();
            problem("connection to NATS lost");
        }
        lock.lock();
    }
    lock.unlock();
    teardown();
    connection.reset();
}

}  // namespace dnsd::fleet
