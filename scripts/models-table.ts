// Prints the README's model tables from the built-in catalogue, so the two never drift apart.
// Usage: npx tsx scripts/models-table.ts
import { BUILTIN_MODELS, DEFAULT_ROLES, modelSpecSchema, RETIRED_MODELS } from '../src/providers/models.js';

export function modelsTable(): string {
  const k = (n: number) => n.toLocaleString('en-US');
  const money = (n: number | undefined) => (n === undefined ? '–' : n === 0 ? 'free' : n.toFixed(2));
  const rows = BUILTIN_MODELS.map(input => {
    const m = modelSpecSchema.parse(input);
    const thinking = m.thinking === 'none' ? 'no' : m.thinking === 'always' ? 'always' : 'on request';
    const effort = m.effort.length ? ` (effort ${m.effort.join('\\|')})` : '';
    const price = m.price
      ? `${money(m.price.input)} · ${money(m.price.cachedInput)} · ${money(m.price.output)}`
      : 'not published';
    const search = m.webSearch ? (m.webSearchNeedsThinkingOff ? 'thinking off only' : 'yes') : 'no';
    const temperature =
      m.temperature === 'omit'
        ? 'never sent'
        : 'fixed' in m.temperature
          ? `fixed ${m.temperature.fixed}`
          : `${m.temperature.min}–${m.temperature.max}`;
    const aliases = m.aliases.length ? ` (${m.aliases.map(a => `\`${a}\``).join(', ')})` : '';
    return `| \`${m.name}\`${aliases} | ${m.provider} | ${k(m.contextWindow)} | ${k(m.maxOutputTokens)} | ${thinking}${effort} | ${m.vision ? 'yes' : 'no'} | ${search} | ${temperature} | ${price} |`;
  });
  const retired = RETIRED_MODELS.map(r => `\`${r.name}\` → \`${r.successor}\``).join(', ');
  const roles = (['glm', 'kimi'] as const)
    .map(
      p =>
        `${p}: ${Object.entries(DEFAULT_ROLES[p])
          .map(([role, name]) => `${role} \`${name}\``)
          .join(', ')}`,
    )
    .join('; ');
  return [
    '| Model | Provider | Context | Max output | Thinking | Vision | Web search | Temperature | USD / 1M in · cached · out |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `Retired (never sent; a call fails naming the successor, a stored thread continues on it): ${retired}.`,
    '',
    `Defaults per role: ${roles}.`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(modelsTable());
