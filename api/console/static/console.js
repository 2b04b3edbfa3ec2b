// logsvc console: a little plain JavaScript over pages that work without it.
// Actions answer in place (the server sends the log's new row), a discard
// asks in place, the viewer wraps, searches, loads earlier lines and follows
// the log live.
// Log text only ever enters the page as text (textContent), never as HTML.
"use strict";

(function () {
  const FRAGMENT = { "X-Console-Fragment": "1" };

  function csrf() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function rowFromHtml(html) {
    const t = document.createElement("template");
    t.innerHTML = html.trim(); // the server's own autoescaped fragment
    return t.content.firstElementChild;
  }

  // What an error answer says (the server's own autoescaped fragment), as text.
  function errorText(answer) {
    const err = rowFromHtml(answer.body || "<p></p>");
    const said = err ? err.textContent.trim() : "";
    return said || "the request failed (" + (answer.status || "no answer") + ")";
  }

  async function fetchText(url, options) {
    const resp = await fetch(url, Object.assign({ credentials: "same-origin" }, options));
    const body = await resp.text();
    return { ok: resp.ok, status: resp.status, body: body };
  }

  // --- actions on a log, answered in place --------------------------------------

  function showNote(row, text, isError) {
    const cell = row.querySelector("td.status");
    if (!cell) return;
    let note = cell.querySelector(".note");
    if (!note) {
      note = document.createElement("small");
      note.className = "note";
      note.setAttribute("role", "status");
      cell.appendChild(note);
    }
    note.textContent = text;
    if (isError) note.classList.add("error-text");
  }

  function markRunning(row, action) {
    const cell = row.querySelector("td.status");
    const started = new Date();
    const badge = document.createElement("span");
    badge.className = "badge running";
    badge.textContent = action.charAt(0).toUpperCase() + action.slice(1) + "ing";
    const since = document.createElement("small");
    since.textContent = "since " + started.toLocaleTimeString();
    cell.replaceChildren(badge, document.createTextNode(" "), since);
    row.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    row.dataset.running = action;
  }

  function replaceRow(row, html) {
    const fresh = rowFromHtml(html);
    if (!fresh || fresh.tagName !== "TR") return row;
    row.replaceWith(fresh);
    bindRow(fresh);
    return fresh;
  }

  async function submitAction(form, extra) {
    let row = form.closest("tr");
    const target = form.getAttribute("action");
    const action = target.split("/").pop();
    const body = new URLSearchParams(new FormData(form));
    if (extra) Object.keys(extra).forEach(function (k) { body.set(k, extra[k]); });
    markRunning(row, action);
    // While the action runs, the row is asked for its state every second.
    let done = false;
    const rowUrl = row.dataset.row;
    async function poll() {
      while (!done) {
        await new Promise(function (r) { setTimeout(r, 1000); });
        if (done) break;
        try {
          const answer = await fetchText(rowUrl, { headers: FRAGMENT });
          if (done || !answer.ok) continue;
          const fresh = rowFromHtml(answer.body);
          if (!fresh) continue;
          // Keep the "running" look until the action answers; take its figures.
          ["td.num"].forEach(function (sel) {
            const now = row.querySelectorAll(sel), then = fresh.querySelectorAll(sel);
            now.forEach(function (cell, i) { if (then[i]) cell.textContent = then[i].textContent; });
          });
        } catch (e) { /* the next poll, or the answer, will tell */ }
      }
    }
    poll();
    let answer;
    try {
      answer = await fetchText(target, {
        method: "POST",
        headers: Object.assign({ "X-CSRF-Token": csrf(), "Content-Type": "application/x-www-form-urlencoded" }, FRAGMENT),
        body: body.toString(),
      });
    } catch (e) {
      answer = { ok: false, status: 0, body: "" };
    }
    done = true;
    if (answer.ok) {
      row = replaceRow(row, answer.body);
      if (row.dataset.running) followRow(row); // still running (an answer before the end)
      return;
    }
    // The row as it is now, with what went wrong.
    const message = errorText(answer);
    try {
      const fresh = await fetchText(rowUrl, { headers: FRAGMENT });
      if (fresh.ok) row = replaceRow(row, fresh.body);
    } catch (e) { /* keep the row */ }
    showNote(row, action + " failed: " + message, true);
  }

  // A row whose action runs (started here or elsewhere): asked for every
  // second, and replaced, until the action is over.
  async function followRow(row) {
    const url = row.dataset.row;
    while (row.isConnected && row.dataset.running) {
      await new Promise(function (r) { setTimeout(r, 1000); });
      try {
        const answer = await fetchText(url, { headers: FRAGMENT });
        if (answer.ok && row.isConnected) row = replaceRow(row, answer.body);
      } catch (e) { /* asked again in a second */ }
    }
  }

  function askInPlace(form) {
    const cell = form.closest("td");
    const saved = Array.from(cell.childNodes);
    const box = document.createElement("div");
    box.className = "confirm";
    box.setAttribute("role", "alertdialog");
    box.setAttribute("aria-label", "Confirm discard");
    const question = document.createElement("span");
    question.textContent = form.dataset.confirm;
    const yes = document.createElement("button");
    yes.type = "button";
    yes.className = "danger confirm-yes";
    yes.textContent = "Discard";
    const no = document.createElement("button");
    no.type = "button";
    no.className = "confirm-no";
    no.textContent = "Cancel";
    box.append(question, yes, no);
    cell.replaceChildren(box);
    yes.focus();
    function restore() {
      cell.replaceChildren.apply(cell, saved);
      const button = form.querySelector("button");
      if (button) button.focus();
    }
    no.addEventListener("click", restore);
    box.addEventListener("keydown", function (ev) { if (ev.key === "Escape") restore(); });
    yes.addEventListener("click", function () {
      cell.replaceChildren.apply(cell, saved);
      submitAction(form, { confirm: "yes" });
    });
  }

  function bindRow(row) {
    row.querySelectorAll("form.act").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        if (form.dataset.confirm) askInPlace(form);
        else submitAction(form);
      });
    });
  }

  // --- the viewer -------------------------------------------------------------------

  function bindViewer(pre) {
    let lines = pre.textContent; // what is shown, as text
    const wrap = document.getElementById("wrap");
    if (wrap) {
      wrap.addEventListener("change", function () { pre.classList.toggle("wrap", wrap.checked); });
    }
    const search = document.getElementById("search");
    const count = document.getElementById("search-count");
    let marks = [];
    let current = -1;
    const MAX_MARKS = 2000;

    // `keep`: new lines came; the current match stays where it is (no jump).
    function render(query, keep) {
      const was = current;
      marks = [];
      current = -1;
      if (!query) {
        pre.textContent = lines;
        if (count) count.textContent = "";
        return;
      }
      const hay = lines.toLowerCase(), needle = query.toLowerCase();
      const frag = document.createDocumentFragment();
      let at = 0, found = 0, i = hay.indexOf(needle);
      while (i !== -1 && found < MAX_MARKS) {
        frag.appendChild(document.createTextNode(lines.slice(at, i)));
        const m = document.createElement("mark");
        m.textContent = lines.slice(i, i + needle.length);
        frag.appendChild(m);
        marks.push(m);
        found += 1;
        at = i + needle.length;
        i = hay.indexOf(needle, at);
      }
      frag.appendChild(document.createTextNode(lines.slice(at)));
      pre.replaceChildren(frag);
      if (count) {
        count.textContent = found === 0 ? "no match in the lines shown"
          : found + (found >= MAX_MARKS ? "+" : "") + " match" + (found === 1 ? "" : "es") + " (Enter: next)";
      }
      if (found && keep && was >= 0) {
        current = Math.min(was, marks.length - 1);
        marks[current].classList.add("current");
      } else if (found) step(1);
    }
    function step(by) {
      if (!marks.length) return;
      if (current >= 0) marks[current].classList.remove("current");
      current = (current + by + marks.length) % marks.length;
      marks[current].classList.add("current");
      marks[current].scrollIntoView({ block: "center", inline: "nearest" });
    }
    if (search) {
      let timer = null;
      search.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(function () { render(search.value); }, 150);
      });
      search.addEventListener("keydown", function (ev) {
        if (ev.key === "Enter") { ev.preventDefault(); step(ev.shiftKey ? -1 : 1); }
      });
      const form = search.closest("form");
      if (form) form.addEventListener("submit", function (ev) { ev.preventDefault(); });
    }
    // Live: every couple of seconds, the lines published since the last look
    // (the server reads from where the viewer is: a Range of the read route).
    const live = document.getElementById("live");
    const liveStatus = document.getElementById("live-status");
    const MAX_CHARS = 8 * 1024 * 1024;
    let after = live ? live.dataset.after : "";
    let timer = null;
    let looking = false;

    function say(text, isError) {
      liveStatus.hidden = false;
      liveStatus.textContent = text;
      liveStatus.classList.toggle("error-text", Boolean(isError));
    }
    function clock() { return new Date().toTimeString().slice(0, 8); } // 12:00:03, local
    function append(text) {
      const atBottom = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 8;
      const added = (lines ? "\n" : "") + text;
      lines += added;
      const query = search ? search.value : "";
      if (lines.length > MAX_CHARS) {
        lines = lines.slice(lines.indexOf("\n", lines.length - MAX_CHARS) + 1);
        render(query, true);
      } else if (query) render(query, true);
      else pre.appendChild(document.createTextNode(added)); // no need to set it all again
      if (atBottom) pre.scrollTop = pre.scrollHeight;
    }
    function schedule(ms) {
      if (live.checked && !document.hidden && timer === null && !looking) timer = setTimeout(look, ms);
    }
    function pause(text) {
      clearTimeout(timer);
      timer = null;
      say(text);
    }
    async function look() {
      timer = null;
      looking = true;
      const asked = after;
      let answer;
      try {
        answer = await fetchText(live.dataset.news + "?after=" + encodeURIComponent(asked), { headers: FRAGMENT });
      } catch (e) {
        answer = null;
      }
      looking = false;
      if (!live.checked || document.hidden) return; // stopped meanwhile: what came is asked again later
      if (after !== asked) { schedule(0); return; } // "Load earlier" set the text anew meanwhile
      let next = 2000;
      if (answer && answer.ok) {
        const data = JSON.parse(answer.body);
        if (data.text) append(data.text);
        after = data.after;
        say("following — last update " + clock());
        if (data.more) next = 0;
      } else if (answer && answer.status === 401) {
        live.checked = false;
        say("not following: " + errorText(answer), true);
        return;
      } else {
        const why = answer ? "the console answered " + answer.status + ": " + errorText(answer) : "no answer from the console";
        say("following — " + why + " (" + clock() + "); trying again", true);
      }
      schedule(next);
    }
    if (live) {
      live.closest("label").hidden = false;
      live.addEventListener("change", function () {
        if (live.checked) { say("following — looking now"); schedule(0); }
        else pause("not following");
      });
      document.addEventListener("visibilitychange", function () {
        if (!live.checked) return;
        if (document.hidden) pause("following paused while the page is hidden");
        else schedule(0);
      });
    }

    const earlier = document.getElementById("earlier");
    if (earlier) {
      earlier.addEventListener("click", async function (ev) {
        ev.preventDefault();
        const url = earlier.dataset.text;
        earlier.setAttribute("aria-busy", "true");
        const fromBottom = pre.scrollHeight - pre.scrollTop;
        const answer = await fetchText(url, { headers: FRAGMENT });
        earlier.removeAttribute("aria-busy");
        if (!answer.ok) {
          document.getElementById("viewer-status").textContent = "loading earlier lines failed (" + answer.status + ")";
          return;
        }
        const data = JSON.parse(answer.body);
        lines = data.text;
        after = data.after;
        render(search ? search.value : "");
        pre.scrollTop = pre.scrollHeight - fromBottom;
        document.getElementById("viewer-status").textContent = data.summary;
        const lineCount = document.getElementById("lines");
        if (lineCount) lineCount.value = data.lines;
        if (data.complete) earlier.remove();
        else { earlier.dataset.text = data.earlier; earlier.href = data.earlier_page; }
      });
    }
    pre.scrollTop = pre.scrollHeight;
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("#logs tbody tr").forEach(function (row) {
      bindRow(row);
      if (row.dataset.running) followRow(row);
    });
    const pre = document.getElementById("log-text");
    if (pre) bindViewer(pre);
  });
})();
