#pragma once
// A scratch directory for one test, removed with everything in it, and the
// two things tests do with files in it.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace dnsd::test {

class TempDir {
public:
    // `label` tells tests of one process apart.
    explicit TempDir(const std::string& label)
        : path_(std::filesystem::temp_directory_path() /
                ("dnsd-unit-" + std::to_string(::getpid()) + "-" + label)) {
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
    }
    ~TempDir() { std::filesystem::remove_all(path_); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }
    // Writes `text` to `relative` (replacing it); returns the full path.
    std::filesystem::path write(const std::filesystem::path& relative, std::string_view text) const {
        std::ofstream(path_ / relative, std::ios::binary | std::ios::trunc) << text;
        return path_ / relative;
    }

private:
    std::filesystem::path path_;
};

// A file's whole content; empty when it cannot be read.
inline std::string read_text(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace dnsd::test
