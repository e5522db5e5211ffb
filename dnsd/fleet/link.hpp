#pragma once
// The fleet's connection to NATS. Every NATS call blocks until the server
// answers or a timeout passes, so none runs on the control loop: the Link
// owns a thread that connects (and reconnects, forever), binds the buckets,
// watches them and writes to them. The control loop hands it writes (put,
// remove), which return at once, and gets back, in order, what happened
// (Event) through a uv_async handle. A slow or absent NATS delays only this
// thread.
#include <uv.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "dnsd/config/config.hpp"
#include "dnsd/fleet/records.hpp"

namespace dnsd::fleet {

struct Event {
    enum class Kind : uint8_t {
        connected,  // to `text` (a server URL); every watched bucket's snapshot follows
        lost,       // the connection (`text`: why); no snapshot or update comes until `connected`
        snapshot,   // `entries`: every key `bucket` holds, read after (re)connecting
        update,     // `entries`: changes to `bucket`, in revision order
        written,    // `entries`: the key written and the revision it got
        failed,     // a write that NATS refused (`text`: why); it is not retried
    };
    Kind kind = Kind::connected;
    Bucket bucket = Bucket::state;
    std::string text;
    std::vector<Entry> entries;
};

class Link {
public:
    using Deliver = std::function<void(std::vector<Event>)>;

    // Starts the thread. `watched`: the buckets whose entries it delivers.
    // `deliver` runs on `loop`'s thread.
    Link(uv_loop_t* loop, config::Fleet fleet, std::vector<Bucket> watched, Deliver deliver);
    Link(const Link&) = delete;
    Link& operator=(const Link&) = delete;
    ~Link();

    // Stores `value` under `key`, or removes `key`. A later write of the same
    // key replaces one not yet sent; writes wait while NATS is unreachable.
    void put(Bucket bucket, std::string key, std::string value);
    void remove(Bucket bucket, std::string key);

    // Stops the thread (waiting for a request in flight, at most
    // nats::request_timeout_ms) and closes the handle; the loop must run
    // afterwards to free it.
    void close();

private:
    struct Write {
        Bucket bucket;
        std::string key;
        std::optional<std::string> value;  // none: remove
    };
    struct Async;

    void run();
    void enqueue(Write write);
    void emit(Event event);
    static void on_async(uv_async_t* handle);

    const config::Fleet fleet_;
    const std::vector<Bucket> watched_;
    Deliver deliver_;
    Async* async_ = nullptr;  // freed by its close callback

    std::mutex mutex_;  // guards what follows
    std::condition_variable wake_;
    std::vector<Write> writes_;
    std::vector<Event> events_;
    bool stopping_ = false;
    bool connection_changed_ = false;  // set by the client's callbacks

    std::thread thread_;
};

}  // namespace dnsd::fleet
