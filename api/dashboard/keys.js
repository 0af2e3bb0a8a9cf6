// A submission's Idempotency-Key (README, the desk): one per submission, kept across retries
// until answered for good, and after a recording for the same values (a minute by default; a
// desk form while it holds them), so that a second click, or the form found again with Back,
// answers "already recorded". The state lives in a dataset: key (pending), answered,
// answeredBody, answeredAt.

const AGAIN_MS = 60 * 1000;

const newKey = () => crypto.randomUUID ? crypto.randomUUID() : Date.now().toString(36) + Math.random().toString(36).slice(2);

// keyFor returns the key to send body (a JSON text) with; the same values as the last recording
// are that recording's within again ms of it.
export function keyFor(state, body, again = AGAIN_MS) {
  if (state.key) return state.key;
  if (recordedAgain(state, body, again)) return state.answered;
  state.key = newKey();
  return state.key;
}

// forget drops what state holds of earlier submissions: the next is a new one, with a new key.
export function forget(state) {
  delete state.key;
  forgetAnswer(state);
}

// forgetAnswer drops the recording state holds for its values: the same values are a new
// submission. A key still pending (an answer lost, a request under way) is kept.
export function forgetAnswer(state) {
  for (const k of ['answered', 'answeredBody', 'answeredAt']) delete state[k];
}

// settled records the server's answer for good to body: a recording (recorded) keeps its key
// for the same values a minute; a refusal frees the key.
export function settled(state, body, recorded) {
  if (recorded) {
    state.answered = state.key || state.answered;
    state.answeredBody = body;
    state.answeredAt = String(Date.now());
  }
  delete state.key;
}

// recordedAgain reports whether body is the values of state's last recording, within again ms
// of it.
export function recordedAgain(state, body, again = AGAIN_MS) {
  return !!state.answered && state.answeredBody === body && Date.now() - Number(state.answeredAt || 0) < again;
}
