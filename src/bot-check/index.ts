/** The surface of bot-check/: proof of work against bots (registration, and sign-in and recovery after failures). */
export { createBotCheck, NOSCRIPT_FIELD, POW_FIELD, POW_MESSAGES, type BotCheck, type ProofFields } from './bot-check';
