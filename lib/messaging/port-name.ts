/**
 * The name of the pages' port to the background (lib/protocol.ts). Its own module: the pages import
 * it without the protocol's request schemas, which only the background parses with (issue 23).
 */
export const PORT_NAME = 'pace';
