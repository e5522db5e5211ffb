#include "dnsd/net/worker.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <stdexcept>
#include <string>

namespace dnsd::net {

Worker::Loop::Loop() {
    if (int error = uv_loop_init(&uv); error != 0)
        throw std::runtime_error(std::string("cannot start a worker: ") + uv_strerror(error));
}

Worker::Worker(const core::Published<answer::View>& published, uint32_t region_count,
               std::vector<ListenSockets> sockets, const TcpSettings& tcp_settings, TcpShared& tcp_shared,
               const Protection& protection)
    : responder_(published, region_count, protection),
      udp_(&loop_.uv, responder_),
      tcp_(&loop_.uv, responder_, tcp_settings, tcp_shared) {
    uv_async_init(&loop_.uv, &stop_async_, on_stop);
    stop_async_.data = this;
    uv_async_init(&loop_.uv, &view_async_, on_view_published);
    view_async_.data = this;
    try {
        for (ListenSockets& listen : sockets) {
            udp_.open(std::move(listen.udp), listen.endpoint);
            tcp_.listen(std::move(listen.tcp), listen.endpoint);
        }
    } catch (...) {
        // No thread runs the loop yet: wind it down here.
        close_handles();
        run_until_closed();
        throw;
    }
}

Worker::~Worker() {
    if (thread_.joinable()) {
        stop();
        join();
    } else if (!loop_closed_) {
        close_handles();
        run_until_closed();
    }
}

void Worker::start() {
    thread_ = std::thread([this] {
        // Named, so that top -H and /proc tell the workers from the control
        // loop and its thread pool, which run at a lower priority.
        ::pthread_setname_np(::pthread_self(), "dnsd-worker");
        run_until_closed();
    });
}

void Worker::stop() { uv_async_send(&stop_async_); }

void Worker::join() {
    if (thread_.joinable()) thread_.join();
}

void Worker::view_published() {
    std::lock_guard lock(view_async_mutex_);
    if (view_async_open_) uv_async_send(&view_async_);
}

void Worker::on_stop(uv_async_t* async) { static_cast<Worker*>(async->data)->close_handles(); }

void Worker::on_view_published(uv_async_t* async) { static_cast<Worker*>(async->data)->responder_.catch_up(); }

void Worker::close_handles() {
    auto* async = reinterpret_cast<uv_handle_t*>(&stop_async_);
    if (uv_is_closing(async)) return;
    uv_close(async, nullptr);
    {
        std::lock_guard lock(view_async_mutex_);
        view_async_open_ = false;
        uv_close(reinterpret_cast<uv_handle_t*>(&view_async_), nullptr);
    }
    udp_.close();
    tcp_.shutdown();
}

// Runs the loop until every handle is closed: close_handles() starts that.
void Worker::run_until_closed() {
    uv_run(&loop_.uv, UV_RUN_DEFAULT);
    if (int error = uv_loop_close(&loop_.uv); error != 0)
        spdlog::error("a worker's loop still had open handles: {}", uv_strerror(error));
    loop_closed_ = true;
}

}  // namespace dnsd::net
