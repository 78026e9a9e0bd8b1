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
//
// The projector slideshow (/slideshow?event=<slug>, see docs/gallery.md):
// slideshowSeconds  seconds each photo stays up (3-3600); the URL's ?interval=
//              overrides it for one screen.
// slideshowFresh    at most this many newly published photos wait to be shown
//              first (the newest); older arrivals just join the loop.
// slideshowQr  true: the QR code to the gallery shows in a corner from the
//              start (Q or a tap toggles it; ?qr=off starts without).
// galleryUrl   the address the QR code opens, with {event} for the slug, e.g.
//              "https://photos.example.com/?event={event}"; null: this site.
//
// Download a selection (the gallery's "Select" button):
// zipSaveAbove where the browser can write a file as it is made (File System
//              Access API: Chrome, Edge on a computer), a ZIP of more than this
//              many photos is streamed straight to a file the guest picks;
//              smaller ones (and every ZIP elsewhere) are built in memory
//              and saved as one download.
window.GALLERY_CONFIG = {
  photoBase: "/photo",
  defaultEvent: null,
  pollSeconds: 10,
  push: true,
  liveBase: "/live",
  pushSafetySeconds: 600,
  slideshowSeconds: 8,
  slideshowFresh: 50,
  slideshowQr: true,
  galleryUrl: null,
  zipSaveAbove: 150,
};
