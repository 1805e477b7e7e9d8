// Prints the README's configuration table from the settings table, so the two never drift apart.
// Usage: npx tsx scripts/settings-table.ts
import { SETTINGS } from '../src/config/settings.js';

const rows = Object.values(SETTINGS).map(spec => {
  const names = spec.env.map(n => `\`${n}\``).join(' / ');
  const value = spec.default === undefined ? '—' : `\`${String(spec.default)}\``;
  return `| ${names} | ${value} | ${spec.unit} | ${spec.description.replaceAll('|', '\\|')} |`;
});
console.log(['| Variable | Default | Unit | Meaning |', '|---|---|---|---|', ...rows].join('\n'));
