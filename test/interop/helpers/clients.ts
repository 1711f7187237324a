// The real-client interop harness in one import: processes (spawn, wait, kill, measure),
// workspaces, aria2c, transmission-daemon, opentracker, sta's own commands, .torrent
// making, and byte-for-byte tree comparison. See test/interop/README.md for how the real
// clients behave on loopback (who dials whom, 0-byte files) and how to use these.
export { freePort, waitFor, withTimeout, sleep, spawnLogged, hasProgram, sampleProc, Proc } from './proc.js';
export type { ExitInfo, SpawnOptions, ProcSample } from './proc.js';
export { Workspace, withWorkspace, needPrograms } from './workspace.js';
export { ARIA2_LOOPBACK_FLAGS, aria2Seed, aria2Download } from './aria2.js';
export type { Aria2Options, Aria2Handle } from './aria2.js';
export { Transmission, TR_STATUS } from './transmission.js';
export type { TransmissionOptions, TransmissionTorrent } from './transmission.js';
export { scrape, scrapeUrlOf, waitForSwarm, startOpentracker } from './trackers.js';
export type { SwarmCounts, RefTracker } from './trackers.js';
export { REPO_ROOT, STA_BIN, staCommand, assertStaBuilt, startStaTracker, staSeed, staDownload } from './sta.js';
export type { StaTracker, StaPeerOptions, StaSeeder, StaDownloader } from './sta.js';
export { infoHashOf, makeTorrent } from './torrents.js';
export type { MakeTorrentOptions } from './torrents.js';
export { compareTrees, assertSameTree } from './trees.js';
export type { CompareOptions, CompareResult } from './trees.js';

export { runTransfer, makeTreePayload, makeBigPayload } from './transfer.js';
export type { Client, Payload, TransferResult } from './transfer.js';
