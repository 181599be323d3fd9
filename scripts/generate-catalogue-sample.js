// Writes samples/olist-products-sample.csv: a small catalogue in the column layout of the public Olist
// products file (olist_products_dataset.csv, "lenght" misspelling included) plus our name, price, stock
// and per_user_limit columns, for trying `npm run catalogue:import`. Every value here is GENERATED from a
// fixed seed: none of it is Olist data, which we do not ship. Same seed, same bytes, on every machine.
//
//   node scripts/generate-catalogue-sample.js [OUTPUT.csv]
const fs = require('node:fs');
const path = require('node:path');

const SEED = 20170904;
const ROWS = 30;

const OLIST_COLUMNS = [
  'product_id',
  'product_category_name',
  'product_name_lenght',
  'product_description_lenght',
  'product_photos_qty',
  'product_weight_g',
  'product_length_cm',
  'product_height_cm',
  'product_width_cm',
];
const OUR_COLUMNS = ['name', 'price', 'stock', 'per_user_limit'];

// Category names as Olist spells them (Portuguese, snake_case), with a few product names for each.
const CATEGORIES = {
  beleza_saude: ['Kit Shampoo e Condicionador 300 ml', 'Protetor Solar FPS 50', 'Escova Secadora'],
  informatica_acessorios: ['Mouse sem Fio', 'Teclado USB ABNT2', 'Suporte para Notebook'],
  cama_mesa_banho: ['Jogo de Lençol Casal 4 Peças', 'Toalha de Banho Algodão', 'Edredom Solteiro'],
  esporte_lazer: ['Garrafa Térmica 1 L', 'Corda de Pular', 'Bola de Futebol Oficial'],
  moveis_decoracao: ['Luminária de Mesa', 'Quadro Decorativo 40x60', 'Prateleira Flutuante'],
  utilidades_domesticas: ['Caneca "Bom Dia", 350 ml', 'Jogo de Panelas Antiaderente', 'Pote Hermético'],
  relogios_presentes: ['Relógio Analógico Pulseira de Couro', 'Relógio Digital Esportivo'],
  telefonia: ['Capinha para Celular', 'Carregador Turbo USB-C', 'Película de Vidro'],
  brinquedos: ['Quebra-Cabeça 500 Peças', 'Boneca de Pano', 'Carrinho de Controle Remoto'],
  perfumaria: ['Perfume Floral 100 ml', 'Desodorante Colônia'],
  automotivo: ['Aspirador Automotivo 12 V', 'Capa para Volante'],
  ferramentas_jardim: ['Mangueira 15 m', 'Tesoura de Poda'],
  bebes: ['Mamadeira 240 ml', 'Babador Impermeável'],
  pet_shop: ['Comedouro Duplo', 'Arranhador para Gatos'],
};

/** mulberry32: a tiny seeded generator, so that the sample is the same on every run */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function csvField(value) {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function generateSample() {
  const next = random(SEED);
  const between = (min, max) => min + Math.floor(next() * (max - min + 1));
  const pick = (list) => list[Math.floor(next() * list.length)];
  const hex = (length) => Array.from({ length }, () => Math.floor(next() * 16).toString(16)).join('');

  const lines = [[...OLIST_COLUMNS, ...OUR_COLUMNS].join(',')];
  for (let row = 0; row < ROWS; row += 1) {
    const id = hex(32);
    // As in Olist, a few products have no category and none of the text or photo figures.
    const uncategorised = row % 13 === 7;
    const category = uncategorised ? '' : pick(Object.keys(CATEGORIES));
    // Every fourth row leaves its name to the import, which derives one from the category and the id.
    const name = uncategorised || row % 4 === 3 ? '' : pick(CATEGORIES[category]);
    const price = (between(990, 99_990) / 100).toFixed(2);
    // Every fifth row leaves its stock to --stock.
    const stock = row % 5 === 2 ? '' : String(between(5, 500));
    const perUserLimit = row % 3 === 0 ? String(between(1, 5)) : '';
    const figures = uncategorised
      ? ['', '', '', between(100, 5000), between(10, 60), between(2, 40), between(10, 50)]
      : [
          between(20, 64),
          between(100, 3000),
          between(1, 6),
          between(100, 5000),
          between(10, 60),
          between(2, 40),
          between(10, 50),
        ];
    lines.push([id, category, ...figures, name, price, stock, perUserLimit].map(csvField).join(','));
  }
  return `${lines.join('\n')}\n`;
}

const output = process.argv[2] ?? path.join(__dirname, '..', 'samples', 'olist-products-sample.csv');
fs.mkdirSync(path.dirname(output), { recursive: true });
fs.writeFileSync(output, generateSample());
console.log(`wrote ${ROWS} products to ${path.relative(process.cwd(), output)}`);
