// ckpt4j native layer, internal: how native failures become one-line messages for Java.
// Every entry point runs its body through guarded(): no C++ exception crosses into Java.
#pragma once

#include <c10/util/Exception.h>

#include <cstdint>
#include <cstdio>
#include <exception>
#include <sstream>
#include <string>
#include <vector>

namespace ckpt4j {
namespace errors {

// The first line of an error raised inside the TorchScript interpreter; its last line says what
// failed (the lines between are the script's traceback).
inline constexpr const char* kScriptFailure = "The following operation failed in the TorchScript";

inline void set_error(char* err, int64_t err_len, const std::string& message) {
  if (err == nullptr || err_len <= 0) return;
  std::snprintf(err, static_cast<size_t>(err_len), "%s", message.c_str());
}

// One line of a (possibly multi-line) LibTorch message: the line that says what went wrong.
inline std::string one_line(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    size_t start = line.find_first_not_of(" \t\r");
    if (start != std::string::npos) lines.push_back(line.substr(start));
  }
  if (lines.empty()) return "(no message)";
  if (lines.size() > 1 && lines.front().rfind(kScriptFailure, 0) == 0) return lines.back();
  return lines.front();
}

// Runs `body`, turning any exception into false plus "<what>: <one line>" in `err`.
template <typename Body>
bool guarded(char* err, int64_t err_len, const std::string& what, Body&& body) {
  try {
    body();
    return true;
  } catch (const c10::Error& e) {
    set_error(err, err_len, what + ": " + one_line(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    set_error(err, err_len, what + ": " + one_line(e.what()));
  } catch (...) {
    set_error(err, err_len, what + ": unknown C++ exception");
  }
  return false;
}

}  // namespace errors
}  // namespace ckpt4j
