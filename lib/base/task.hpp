// Task<T>: a lazily started C++20 coroutine awaited by exactly one caller, or a
// value that is ready at once (Task<T>::ready). Interfaces whose answers may
// arrive later (the tracker's Redis store) return Task; implementations that
// answer at once (the embedded store) return ready values and cost no frame.
// No executor here: a task runs on whatever thread resumes it.
#pragma once
#include <coroutine>
#include <exception>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace p2p {

template <typename T = void>
class Task;

namespace detail {

struct TaskPromiseBase {
  std::coroutine_handle<> continuation = std::noop_coroutine();
  std::exception_ptr error;

  std::suspend_always initial_suspend() noexcept { return {}; }
  // Symmetric transfer back to the awaiter: no stack growth along a chain of tasks.
  struct FinalAwaiter {
    bool await_ready() noexcept { return false; }
    template <typename P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
      return h.promise().continuation;
    }
    void await_resume() noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { error = std::current_exception(); }
};

template <typename T>
struct TaskPromise : TaskPromiseBase {
  std::optional<T> value;
  Task<T> get_return_object();
  template <typename U>
  void return_value(U&& v) {
    value.emplace(std::forward<U>(v));
  }
  T take() {
    if (error) std::rethrow_exception(error);
    return std::move(*value);
  }
};

template <>
struct TaskPromise<void> : TaskPromiseBase {
  Task<void> get_return_object();
  void return_void() noexcept {}
  void take() {
    if (error) std::rethrow_exception(error);
  }
};

template <typename T>
struct ReadyValue {
  std::optional<T> value;
  T take() { return std::move(*value); }
};
template <>
struct ReadyValue<void> {
  void take() {}
};

}  // namespace detail

template <typename T>
class [[nodiscard]] Task {
 public:
  using promise_type = detail::TaskPromise<T>;

  // A task that is already finished with this value (no coroutine frame).
  template <typename... Args>
  static Task ready(Args&&... args) {
    Task t;
    if constexpr (!std::is_void_v<T>) t.ready_.value.emplace(std::forward<Args>(args)...);
    return t;
  }

  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})), ready_(std::move(other.ready_)) {}
  Task& operator=(Task&&) = delete;
  Task(const Task&) = delete;
  ~Task() {
    if (handle_) handle_.destroy();
  }

  bool await_ready() const noexcept { return !handle_; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiter) noexcept {
    handle_.promise().continuation = awaiter;
    return handle_;
  }
  T await_resume() { return handle_ ? handle_.promise().take() : ready_.take(); }

  bool done() const noexcept { return !handle_ || handle_.done(); }

 private:
  friend struct detail::TaskPromise<T>;
  Task() = default;
  explicit Task(std::coroutine_handle<promise_type> h) : handle_(h) {}

  std::coroutine_handle<promise_type> handle_;
  detail::ReadyValue<T> ready_;
};

namespace detail {

template <typename T>
Task<T> TaskPromise<T>::get_return_object() {
  return Task<T>(std::coroutine_handle<TaskPromise<T>>::from_promise(*this));
}
inline Task<void> TaskPromise<void>::get_return_object() {
  return Task<void>(std::coroutine_handle<TaskPromise<void>>::from_promise(*this));
}

// A fire-and-forget coroutine that owns the task it drives.
struct Detached {
  struct promise_type {
    Detached get_return_object() noexcept { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }  // drive() catches everything
  };
};

template <typename F>
Detached drive(Task<void> task, F on_done) {
  std::exception_ptr error;
  try {
    co_await task;
  } catch (...) {
    error = std::current_exception();
  }
  on_done(error);
}

}  // namespace detail

// Starts `task` at once; on_done(exception_ptr, null on success) runs when it
// has finished, which may be before start_detached returns.
template <typename F>
void start_detached(Task<void> task, F on_done) {
  if (task.await_ready()) {
    std::exception_ptr error;
    try {
      task.await_resume();
    } catch (...) {
      error = std::current_exception();
    }
    on_done(error);
    return;
  }
  detail::drive(std::move(task), std::move(on_done));
}

// Runs a task that must finish without suspending (an embedded store's answer,
// unit tests) and returns its value. A task that suspends is a logic error.
template <typename T>
T run_now(Task<T> task) {
  if (!task.await_ready()) {
    task.await_suspend(std::noop_coroutine()).resume();
    if (!task.done()) throw std::logic_error("run_now: the task suspended; it needs an event loop");
  }
  return task.await_resume();
}

}  // namespace p2p
