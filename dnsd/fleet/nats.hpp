#pragma once
// The parts of Debian's NATS C client (libnats) the fleet uses, with owners
// that free them: connection options from the config, and the key-value
// buckets, bound or created. Every call here may block (bounded by the
// timeouts set here): call them from the fleet's thread or from a command
// line tool, never from the control loop.
#include <nats/nats.h>

#include <memory>
#include <string>

#include "dnsd/config/config.hpp"
#include "dnsd/fleet/records.hpp"

namespace dnsd::fleet::nats {

// A request to NATS (a JetStream call, a put) waits this long for its answer.
inline constexpr int64_t request_timeout_ms = 2000;

struct OptionsFree {
    void operator()(natsOptions* options) const { natsOptions_Destroy(options); }
};
struct ConnectionFree {
    void operator()(natsConnection* connection) const { natsConnection_Destroy(connection); }
};
struct JetStreamFree {
    void operator()(jsCtx* js) const { jsCtx_Destroy(js); }
};
struct BucketFree {
    void operator()(kvStore* kv) const { kvStore_Destroy(kv); }
};
struct WatcherFree {
    void operator()(kvWatcher* watcher) const { kvWatcher_Destroy(watcher); }
};
struct EntryFree {
    void operator()(kvEntry* entry) const { kvEntry_Destroy(entry); }
};
using Options = std::unique_ptr<natsOptions, OptionsFree>;
using Connection = std::unique_ptr<natsConnection, ConnectionFree>;
using JetStream = std::unique_ptr<jsCtx, JetStreamFree>;
using KeyValue = std::unique_ptr<kvStore, BucketFree>;
using Watcher = std::unique_ptr<kvWatcher, WatcherFree>;
using KvEntry = std::unique_ptr<kvEntry, EntryFree>;

// "what failed: the library's words for `status` (and its last error)".
std::string error_text(std::string_view what, natsStatus status);

// The servers, credentials and timeouts of `fleet`; null and `error` on a bad setting.
Options make_options(const config::Fleet& fleet, std::string& error);

// A JetStream context on `connection` whose requests wait request_timeout_ms.
JetStream jet_stream(natsConnection* connection, std::string& error);

// `bucket` bound, or created when the fleet has none yet (keeping the last
// value of each key only, on disk, replicated on as many servers as the
// connection knows, up to 3).
KeyValue open_bucket(natsConnection* connection, jsCtx* js, Bucket bucket, std::string& error);

}  // namespace dnsd::fleet::nats
