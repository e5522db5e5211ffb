#pragma once
// One writer publishes immutable values; many reader threads use them without a
// lock on their hot path. Readers keep a thread-local copy (Reader) and refresh
// it only when the generation moved, so a query costs one acquire load (a
// plain load on x86). Acquire pairs with publish()'s release: a reader that
// sees a new generation then loads at least the value published with it.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

namespace dnsd::core {

template <typename T>
class Published {
public:
    explicit Published(std::shared_ptr<const T> initial) : value_(std::move(initial)) {}

    // Writer: the control loop, only.
    void publish(std::shared_ptr<const T> next) {
        {
            std::lock_guard lock(mutex_);
            value_ = std::move(next);
        }
        generation_.fetch_add(1, std::memory_order_release);
    }

    std::shared_ptr<const T> load() const {
        std::lock_guard lock(mutex_);
        return value_;
    }

    uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

    // A worker's cached view of the published value.
    class Reader {
    public:
        explicit Reader(const Published& source) : source_(source) { refresh(); }
        // Cheap when nothing changed; takes the lock only after a publish.
        const T& get() {
            if (source_.generation() != seen_) refresh();
            return *value_;
        }
        uint64_t generation() const { return seen_; }

    private:
        void refresh() {
            seen_ = source_.generation();
            value_ = source_.load();
        }
        const Published& source_;
        uint64_t seen_ = 0;
        std::shared_ptr<const T> value_;
    };

private:
    mutable std::mutex mutex_;
    std::shared_ptr<const T> value_;
    std::atomic<uint64_t> generation_{0};
};

}  // namespace dnsd::core
