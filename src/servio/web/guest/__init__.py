"""The guest PWA: the app shell served at /t/{qr_token}, its service worker and manifest."""
