// Imported by wasm-bindgen (`module = "/src/js/tabs.js"`, used by src/app/sync.rs): the Web
// Locks API, with which the app's tabs take turns.
//
// Resolves, once the lock `name` is granted, with the function that releases it. The lock is
// held until that function is called or the page goes away (closed, reloaded): the browser
// then grants it to the next tab that asked (exclusive: one holder at a time).
// Without Web Locks (a page outside a secure context) the lock is granted at once: this tab
// cannot see others then.
export function pb_lock(name) {
  if (!(navigator.locks && navigator.locks.request)) {
    return Promise.resolve(() => {});
  }
  return new Promise((granted, failed) => {
    navigator.locks
      .request(name, () => new Promise((release) => granted(release)))
      .catch(failed);
  });
}
