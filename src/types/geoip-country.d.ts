/** The part of geoip-country (no types of its own) that src/account/place.ts uses. */
declare module 'geoip-country' {
  interface Lookup {
    country: string;
    name: string;
  }
  const geoip: { lookup(ip: string): Lookup | null };
  export default geoip;
}
