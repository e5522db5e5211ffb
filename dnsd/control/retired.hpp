#pragma once
// Values the control loop replaced (zones, snapshots, views, health, GeoIP
// databases, pool counter tables), kept until nothing else holds them and then
// freed on libuv's thread pool. A worker that drops its last use of one is
// then never the one that frees it: freeing the view of 20,000 zones, or a zone
// of 100,000 names, takes longer than a query may wait.
#include <uv.h>

#include <memory>
#include <unordered_map>

namespace dnsd::control {

class Retired {
public:
    explicit Retired(uv_loop_t* loop);
    Retired(const Retired&) = delete;
    Retired& operator=(const Retired&) = delete;

    // Keeps `value` (null: nothing; one already kept: kept once) until this
    // is its only holder. Control loop only.
    void retire(std::shared_ptr<const void> value);

    // Closes the timer (MainLoop::on_stop) and drops every value kept; later
    // values are dropped at once.
    void stop();

private:
    static void on_sweep(uv_timer_t* timer);
    void sweep();

    uv_loop_t* loop_;
    uv_timer_t sweep_;
    bool stopped_ = false;
    // By address, so that a reload retiring 20,000 zones keeps each once
    // without comparing it with all the others.
    std::unordered_map<const void*, std::shared_ptr<const void>> values_;
};

}  // namespace dnsd::control
