#pragma once
// A worker: one thread, its own libuv loop, its own UDP and TCP sockets on
// every endpoint, its own answer scratch and counters. Workers share nothing
// but the published view, the TCP connection counts and the Protection (cookie
// secrets, the RRL table).
#include <uv.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "dnsd/answer/view.hpp"
#include "dnsd/core/published.hpp"
#include "dnsd/net/counters.hpp"
#include "dnsd/net/responder.hpp"
#include "dnsd/net/sockets.hpp"
#include "dnsd/net/tcp.hpp"
#include "dnsd/net/udp.hpp"

namespace dnsd::net {

class Worker {
public:
    // Adopts the sockets into a new loop (on the calling thread, before the
    // worker's thread exists). Throws std::runtime_error.
    // `region_count`: the config's regions, for the pool answer counters.
    Worker(const core::Published<answer::View>& published, uint32_t region_count,
           std::vector<ListenSockets> sockets, const TcpSettings& tcp_settings, TcpShared& tcp_shared,
           const Protection& protection = {});
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;
    // Stops and joins the thread if it runs, then closes the loop.
    ~Worker();

    void start();
    // From any thread: stop receiving and accepting, deliver the TCP answers
    // already written, then let the thread end.
    void stop();
    void join();
    // From any thread: a new view was published. The worker moves to it now
    // rather than at its next query (Responder::catch_up), so that an idle
    // worker lets go of the old one and what only it held is freed.
    void view_published();

    // Readable from any thread.
    const Counters& counters() const { return responder_.counters(); }
    PoolCounters& pool_counters() { return responder_.pool_counters(); }
    const PoolCounters& pool_counters() const { return responder_.pool_counters(); }
    const guard::Rrl* rrl() const { return responder_.rrl(); }

private:
    struct Loop {
        Loop();  // throws std::runtime_error
        uv_loop_t uv;
    };
    static void on_stop(uv_async_t* async);
    static void on_view_published(uv_async_t* async);
    void close_handles();
    void run_until_closed();

    Loop loop_;
    uv_async_t stop_async_;
    uv_async_t view_async_;
    // Guards view_async_ against a send while the worker closes it.
    std::mutex view_async_mutex_;
    bool view_async_open_ = true;
    Responder responder_;
    Udp udp_;
    Tcp tcp_;
    bool loop_closed_ = false;  // written by the worker's thread, read after join
    std::thread thread_;
};

}  // namespace dnsd::net
