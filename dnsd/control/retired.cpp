#include "dnsd/control/retired.hpp"

#include <malloc.h>

#include <vector>

#include "dnsd/core/background.hpp"

namespace dnsd::control {

namespace {

// How often retired values are checked for their last holder.
constexpr uint64_t sweep_interval_ms = 100;

// Values freed on the thread pool.
struct Release {
    uv_work_t work{};
    std::vector<std::shared_ptr<const void>> values;
};

}  // namespace

Retired::Retired(uv_loop_t* loop) : loop_(loop) {
    uv_timer_init(loop_, &sweep_);
    sweep_.data = this;
}

void Retired::retire(std::shared_ptr<const void> value) {
    if (!value || stopped_) return;
    // Kept once: a second copy here would never let its use count fall to 1.
    const void* address = value.get();
    values_.try_emplace(address, std::move(value));
    if (!uv_is_active(reinterpret_cast<uv_handle_t*>(&sweep_)))
        uv_timer_start(&sweep_, on_sweep, sweep_interval_ms, sweep_interval_ms);
}

void Retired::on_sweep(uv_timer_t* timer) { static_cast<Retired*>(timer->data)->sweep(); }

// A retired value held only here can gain no new holder: nothing else can
// reach it any more. It is freed on the thread pool, and its pages go back to
// the system.
void Retired::sweep() {
    auto release = std::make_unique<Release>();
    std::erase_if(values_, [&](auto& kept) {
        if (kept.second.use_count() != 1) return false;
        release->values.push_back(std::move(kept.second));
        return true;
    });
    if (values_.empty()) uv_timer_stop(&sweep_);
    if (release->values.empty()) return;
    release->work.data = release.get();
    const int rc = uv_queue_work(
        loop_, &release->work,
        [](uv_work_t* work) {
            core::run_in_background();
            static_cast<Release*>(work->data)->values.clear();
            // glibc keeps freed memory in the arena of the thread that
            // allocated it (a thread of this pool); hand the pages back.
            ::malloc_trim(0);
        },
        [](uv_work_t* work, int) { delete static_cast<Release*>(work->data); });
    if (rc == 0) release.release();
}

void Retired::stop() {
    if (stopped_) return;
    stopped_ = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&sweep_), nullptr);
    values_.clear();
}

}  // namespace dnsd::control
