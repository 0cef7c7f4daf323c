// The chat page: sign in for a JWT, pick a model or an actor, chat over /ws/chat with tokens as they stream.
// The token lives in sessionStorage (this tab only) and reaches the socket as the subprotocols "bearer, <JWT>".
(() => {
  "use strict";
  const TOKEN_KEY = "symbient.chat.token";
  const EMAIL_KEY = "symbient.chat.email";
  // Close codes after which reconnecting cannot help (see apps/chat/consumers.py CloseCode).
  const FINAL_CLOSES = {
    4000: "The chat could not be opened.",
    4001: "Your sign-in is no longer valid; sign in again.",
    4003: "You may not open this chat.",
    4004: "This chat was not found.",
    4009: "This chat has ended; start a new one.",
    4100: "An administrator stopped this chat.",
  };
  const $ = (id) => document.getElementById(id);
  const state = {
    token: sessionStorage.getItem(TOKEN_KEY),
    email: sessionStorage.getItem(EMAIL_KEY) || "",
    chatId: null,
    ws: null,
    retries: 0,
    leaving: false,
    streaming: null,
    reconnects: 0,
  };
  window.symbientChat = state; // for the browser test and for curious people

  function showError(text) {
    $("error").textContent = text;
    $("error").hidden = !text;
  }

  function setStatus(text) {
    $("status").textContent = text;
  }

  async function api(path, options = {}) {
    const headers = { "Content-Type": "application/json", ...(options.headers || {}) };
    if (state.token) headers.Authorization = `Bearer ${state.token}`;
    const response = await fetch(path, { ...options, headers });
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      body = null;
    }
    if (!response.ok) {
      const message = (body && (body.detail || body.message || body.error)) || `The server answered ${response.status}.`;
      const error = new Error(message);
      error.status = response.status;
      throw error;
    }
    return body;
  }

  function showView() {
    const signedIn = Boolean(state.token);
    $("login-view").hidden = signedIn;
    $("chat-view").hidden = !signedIn;
    $("who").textContent = state.email;
  }

  async function login(event) {
    event.preventDefault();
    showError("");
    const body = { email: $("login-email").value, password: $("login-password").value };
    if ($("login-mfa").value) body.mfacode = $("login-mfa").value;
    try {
      const answer = await api("/api/v1/login", { method: "POST", body: JSON.stringify(body) });
      state.token = answer.token;
      state.email = (answer.user && answer.user.email) || body.email;
      sessionStorage.setItem(TOKEN_KEY, state.token);
      sessionStorage.setItem(EMAIL_KEY, state.email);
      $("login-password").value = "";
      await start();
    } catch (error) {
      showError(`Sign-in failed: ${error.message}`);
    }
  }

  function logout(message) {
    state.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    disconnect();
    showView();
    showError(message || "");
  }

  function option(value, label) {
    const element = document.createElement("option");
    element.value = value;
    element.textContent = label;
    return element;
  }

  async function loadTargets() {
    const select = $("target");
    select.replaceChildren();
    const models = await api("/api/models");
    const group = document.createElement("optgroup");
    group.label = "Models";
    for (const model of models.data || []) group.append(option(`model:${model.id}`, model.name || model.id));
    select.append(group);
    try {
      const answer = await api("/api/v1/toolbox/tools/actors/get");
      if ((answer.actors || []).length) {
        const actors = document.createElement("optgroup");
        actors.label = "Actors";
        for (const actor of answer.actors) actors.append(option(`actor:${actor.actorid}`, actor.name));
        select.append(actors);
      }
    } catch (_) {
      // Actors are listed to those whose role may read them; the others pick a model.
    }
  }

  async function loadChats() {
    const chats = await api("/api/v1/chats");
    const list = $("chats");
    list.replaceChildren();
    for (const chat of chats) {
      const item = document.createElement("li");
      item.dataset.chatId = chat.id;
      if (chat.id === state.chatId) item.className = "current";
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = `${chat.title || `Chat ${chat.number}`} · ${chat.state}`;
      button.addEventListener("click", () => openChat(chat.id));
      item.append(button);
      list.append(item);
    }
  }

  function bubble(role, text, id) {
    const item = document.createElement("li");
    item.className = role;
    if (id) item.dataset.messageId = id;
    item.textContent = text;
    $("messages").append(item);
    item.scrollIntoView({ block: "end" });
    return item;
  }

  function socketUrl(chatId) {
    const params = new URLSearchParams();
    if (chatId) {
      params.set("chat_id", chatId);
    } else {
      const [kind, value] = $("target").value.split(/:(.*)/s);
      params.set(kind === "actor" ? "actor_id" : "model", value || "");
    }
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    return `${scheme}://${location.host}/ws/chat?${params}`;
  }

  function disconnect() {
    if (state.ws) {
      state.leaving = true;
      state.ws.close(1000);
      state.ws = null;
    }
    clearTimeout(state.retryTimer);
  }

  function connect(chatId) {
    const ws = new WebSocket(socketUrl(chatId), ["bearer", state.token]);
    state.ws = ws;
    state.leaving = false;
    setStatus("Connecting…");
    $("send").disabled = true;
    ws.addEventListener("message", (event) => handle(JSON.parse(event.data)));
    ws.addEventListener("close", (event) => closed(ws, event));
  }

  const handlers = {
    connection_established(event) {
      const isNew = state.chatId !== event.chat_id;
      state.chatId = event.chat_id;
      state.retries = 0;
      setStatus("Connected");
      showError("");
      $("send").disabled = false;
      if (isNew) loadChats().catch((error) => showError(error.message));
    },
    user_created() {},
    pong() {},
    message_received(event) {
      bubble("user", event.message.content, event.message.id);
    },
    message_stream_started(event) {
      state.streaming = bubble("assistant streaming", "", event.message_id);
    },
    message_stream_token(event) {
      if (!state.streaming) state.streaming = bubble("assistant streaming", "");
      state.streaming.textContent += event.token;
    },
    message_stream_ended(event) {
      const item = state.streaming || bubble("assistant", "");
      item.textContent = event.message.content;
      item.className = "assistant";
      item.dataset.messageId = event.message.id;
      state.streaming = null;
      $("send").disabled = false;
    },
    error(event) {
      showError(`${event.message} (${event.code})`);
      if (state.streaming) {
        state.streaming.classList.remove("streaming");
        state.streaming = null;
      }
      $("send").disabled = !state.ws || state.ws.readyState !== WebSocket.OPEN;
    },
  };

  function handle(event) {
    const handler = handlers[event.type];
    if (handler) handler(event);
  }

  function closed(ws, event) {
    if (ws !== state.ws && state.ws !== null) return; // an older socket we replaced
    $("send").disabled = true;
    if (state.streaming) {
      state.streaming.classList.remove("streaming");
      state.streaming = null;
    }
    if (state.leaving) return;
    if (event.code === 4001) return logout(FINAL_CLOSES[4001]);
    if (FINAL_CLOSES[event.code]) {
      setStatus("Disconnected");
      showError(FINAL_CLOSES[event.code]);
      state.ws = null;
      return;
    }
    // A network drop, a server restart, or too many connections (4029): try again, waiting longer each time.
    const wait = Math.min(30000, 500 * 2 ** state.retries);
    state.retries += 1;
    setStatus(`Connection lost; reconnecting in ${Math.round(wait / 100) / 10} s…`);
    state.retryTimer = setTimeout(() => {
      state.reconnects += 1;
      connect(state.chatId);
    }, wait);
  }

  async function openChat(chatId) {
    disconnect();
    state.chatId = chatId;
    $("messages").replaceChildren();
    showError("");
    for (const item of $("chats").children) item.classList.toggle("current", item.dataset.chatId === chatId);
    try {
      // The same stored messages, read through the conversations API.
      const messages = await api(`/chat/conversations/${encodeURIComponent(chatId)}/messages`);
      for (const message of messages) {
        if (message.role !== "system") bubble(message.role, message.content, message.id);
      }
    } catch (error) {
      showError(`Earlier messages could not be loaded: ${error.message}`);
    }
    if (state.chatId === chatId) connect(chatId);
  }

  function newChat() {
    disconnect();
    state.chatId = null;
    $("messages").replaceChildren();
    showError("");
    connect(null);
  }

  function send(event) {
    event.preventDefault();
    const content = $("content").value;
    if (!content.trim()) return;
    if (!state.ws || state.ws.readyState !== WebSocket.OPEN) {
      showError("Not connected yet; your message was kept in the box.");
      return;
    }
    state.ws.send(JSON.stringify({ content }));
    $("content").value = "";
    $("send").disabled = true;
  }

  async function start() {
    showView();
    try {
      await loadTargets();
      await loadChats();
    } catch (error) {
      if (error.status === 401) return logout("Your sign-in is no longer valid; sign in again.");
      showError(error.message);
    }
  }

  $("login-form").addEventListener("submit", login);
  $("logout").addEventListener("click", () => logout(""));
  $("new-chat").addEventListener("click", newChat);
  $("send-form").addEventListener("submit", send);
  $("content").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) send(event);
  });
  showView();
  if (state.token) start();
})();
