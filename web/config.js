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
window.GALLERY_CONFIG = {
  photoBase: "/photo",
  defaultEvent: null,
  pollSeconds: 10,
};
