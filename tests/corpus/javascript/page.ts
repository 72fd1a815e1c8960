// Browser samples (TypeScript) for the DOM sinks of js-xss and js-code-injection.
import DOMPurify from "dompurify";

export function showGreeting(target: HTMLElement): void {
  const name = decodeURIComponent(location.hash.slice(1));
  // ruleid: js-xss
  target.innerHTML = "<b>" + name + "</b>";
  // ok: js-xss
  target.innerHTML = DOMPurify.sanitize("<b>" + name + "</b>");
  // ok: js-xss
  target.textContent = name;
}

export function runSnippet(): void {
  // ruleid: js-code-injection
  new Function(location.search.slice(1))();
  // ok: js-code-injection
  eval("1 + 1");
}
