/** The package ships no types: it returns the metric families as prom2json prints them (values as strings). */
declare module 'parse-prometheus-text-format' {
  export default function parsePrometheusTextFormat(text: string): unknown[];
}
