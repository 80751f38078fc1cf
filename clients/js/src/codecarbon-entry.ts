/** @wattprint/client/codecarbon: CodeCarbon's emissions.csv read into wattprint's records, and CodeCarbon's API. */
export { CODECARBON_UNCERTAINTY, CodecarbonApiClient, ImportFormatError, readCodecarbonCsv, type CodecarbonApiOptions } from "./codecarbon.js";
