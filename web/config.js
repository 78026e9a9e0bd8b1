// Gallery settings, loaded before the gallery's modules (js/main.js). Edit for your deployment.
//
// photoBase    where manifests and photos live: "/photo" (the Pages Function
//              in front of R2, or the appliance's local server), or the public
//              R2 custom domain including the prefix, e.g.
//              "https://photos.example.com/events" (no Function invocations;
//              needs a CORS rule on the bucket, see functions/README.md).
// defaultEvent event slug shown when the URL has no ?event=<slug>, or null.
// pollSeconds  how often guests' browsers check for new photos: every
//              pollSeconds to 1.2 × pollSeconds (random jitter), never sooner.
// push         true: a WebSocket to the event's live channel (functions/_live/)
//              brings new photos within a second, and the tab polls only every
//              pushSafetySeconds while it is open; polling as above whenever it
//              cannot connect. false: polling only (no channel deployed).
// liveBase     where the live channel answers: "/live" (the Pages Function) or
//              an origin + path, e.g. "https://live.example.com/live".
window.GALLERY_CONFIG = {
  photoBase: "/photo",
  defaultEvent: null,
  pollSeconds: 10,
  push: true,
  liveBase: "/live",
  pushSafetySeconds: 600,
};
