// The HTTP tracker tests again on the net.Server path (--http-io node): the files below run
// on the native path by default (withTracker's 'auto' when the addon is built); here
// withTracker's default is 'node', so every HTTP behaviour is checked on both paths.
process.env.STA_TEST_HTTP_IO = 'node';
await import('./http.test.js');
await import('./http-front.test.js');
await import('./bad-input.test.js');
await import('./api.test.js');
await import('./ipv6.test.js');
